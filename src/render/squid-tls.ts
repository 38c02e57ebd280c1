/**
 * What the proxy needs to check TLS server names without intercepting TLS: Squid built with
 * OpenSSL (Debian's and Ubuntu's `squid-openssl`), a certificate on every `ssl-bump` port, and a
 * helper that tells whether a ClientHello named a server at all.
 *
 * Squid 5.7 peeks at the ClientHello only on an `http_port ... ssl-bump` that has a certificate
 * (without one it logs "Will not bump SSL ... due to TLS initialization failure" and tunnels
 * unchecked). Nothing is ever bumped, so the certificate is never shown to a client: the container
 * makes a throwaway self-signed one at start, which needs no CA and no secret in the stack.
 */

/**
 * Where the proxy container writes its throwaway certificate and key: /dev/shm, the one place
 * every container has writable by any user (Docker and Kubernetes mount it as a tmpfs, mode
 * 1777, also beside a read-only root). Docker's `tmpfs` mounts copy the image directory's owner
 * and mode, so `/var/run/squid` is root's there.
 */
export const SQUID_TLS_FILES = { cert: "/dev/shm/rapidclaw-unused-tls-cert.pem", key: "/dev/shm/rapidclaw-unused-tls-key.pem" } as const;

/** Where the SNI helper is put, beside squid.conf; Squid runs it with `/bin/sh`, so it needs no exec bit. */
export const SQUID_SNI_HELPER_PATH = "/etc/squid/rapidclaw-sni-present.sh";

/**
 * Squid external ACL helper: one line per lookup, the ClientHello's server name first (`-` when
 * there was none), answered `OK` when a name was sent and `ERR` when not. `ssl::server_name`
 * falls back to the CONNECT host when the ClientHello has no SNI, so without this check a
 * ClientHello without a name would be spliced to any allowed CONNECT host.
 */
export const SQUID_SNI_HELPER = [
  "#!/bin/sh",
  "# Rapid Claw: answers OK when the TLS ClientHello named a server (SNI), ERR when it did not.",
  "while read -r sni rest; do",
  '\tcase $sni in "" | -) echo ERR ;; *) echo OK ;; esac',
  "done",
  "",
].join("\n");

/**
 * The shell command that makes the throwaway certificate: an EC key, never used, since nothing is
 * bumped. The image needs `openssl`.
 */
export const THROWAWAY_CERTIFICATE_COMMAND = `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj /CN=rapidclaw-unused -keyout ${SQUID_TLS_FILES.key} -out ${SQUID_TLS_FILES.cert}`;
