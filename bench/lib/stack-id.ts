/** The stack id every variant uses, so all of them write the same paths and ids. */
export const STACK_ID = "agent-firewall";
