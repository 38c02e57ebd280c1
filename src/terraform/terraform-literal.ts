/**
 * Literal text as a Terraform string. Every string in Terraform JSON is a template: `${` starts an
 * expression and `%{` a directive, so text that holds them (Squid's `%{role}note` format codes, a
 * shell script) must write them `$${` and `%%{` to reach the resource unchanged.
 */
export function terraformLiteral(text: string): string {
  // Replacement functions, not strings: in a replacement string `$$` is itself an escape for `$`.
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}
