/**
 * A step an upstream's answer body passes through on its way to the agent (a filter, a reader),
 * before the key scrubber: each chunk in gives the bytes to send on; `end` gives the rest once
 * the answer is whole; `close` says it ended either way (whole or cut off). Throwing cuts the
 * answer off.
 */
export interface AnswerStage {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
  close(): void;
}

/** The stage for an answer, given its status and content type (after decoding), if it needs one. */
export type AnswerStageFor = (status: number, contentType: string | undefined) => AnswerStage | undefined;
