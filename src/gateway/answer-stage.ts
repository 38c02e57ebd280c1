import { Transform } from "node:stream";

/**
 * A step an upstream's answer body passes through on its way to the agent (a filter, a reader):
 * each chunk in gives the bytes to send on; `end` gives the rest once the answer is whole;
 * `close` says it ended either way (whole or cut off). Throwing cuts the answer off.
 */
export interface AnswerStage {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
  close(): void;
}

/** The stage as a stream, for a forwarding path that pipes. */
export function stageStream(stage: AnswerStage): Transform {
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        callback(null, stage.push(chunk));
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        callback(null, stage.end());
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  stream.on("close", () => stage.close());
  return stream;
}
