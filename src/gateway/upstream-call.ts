import type { ServerResponse } from "node:http";
import type { Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Dispatcher } from "undici";
import type { AnswerStage, AnswerStageFor } from "./answer-stage";
import type { KeyScrubber } from "./key-scrubber";

/** An upstream answer the gateway will not pass on: a status no final answer has, or a body it cannot read. */
export class UpstreamAnswerError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** What becomes of calls (one object for all of them): how many key spellings were written over, or why a call failed. */
export interface UpstreamCallOutcome {
  /** The upstream's response headers arrived (for the duration metric). */
  onResponse(call: UpstreamCall): void;
  /** The call failed before the agent got a status: answer 502. */
  onFailure(call: UpstreamCall, error: Error): void;
  /** The answer reached the agent (whole, or cut off); `scrubbed` spellings of the key were written over. */
  onEnd(call: UpstreamCall, scrubbed: number): void;
}

/** Hop-by-hop headers, and cookies an upstream sets: not passed to the agent. */
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "set-cookie"]);

/** Content encodings the gateway decodes to see the key; the upstream is asked for `identity`, which most honour. */
const DECODERS: Readonly<Record<string, () => Transform>> = { gzip: createGunzip, "x-gzip": createGunzip, deflate: createInflate, br: createBrotliDecompress };

/**
 * One forwarded call's answer, relayed from undici to the agent's response: headers filtered and
 * scrubbed of the key, the body decoded if the upstream compressed it anyway, scrubbed across
 * chunk boundaries, bounded, and with back-pressure both ways. A status outside 200–599, a header
 * Node will not write or an unknown encoding fails the call (502) before anything is sent.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  private abortUpstream: ((error?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private decoder: Transform | undefined;
  private decodedBytes = 0;
  private finished = false;
  /** The answer's stage (a filter or a reader), ahead of the scrubber. */
  private stage: AnswerStage | undefined;
  /** Why the answer was cut off, when it was. */
  cutBy: Error | undefined;
  /** When the call was forwarded (`process.hrtime.bigint()`). */
  readonly started = process.hrtime.bigint();

  constructor(
    readonly res: ServerResponse,
    readonly tool: string,
    readonly role: string,
    private readonly scrubber: KeyScrubber | undefined,
    private readonly maxResponseBytes: number,
    private readonly outcome: UpstreamCallOutcome,
    private readonly stageFor?: AnswerStageFor,
  ) {}

  /** Stops the upstream side, when the agent went away before the end. */
  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    this.decoder?.destroy();
    this.stage?.close();
    this.abortUpstream?.(new UpstreamAnswerError("ERR_CLIENT_GONE", "the agent closed the connection"));
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort;
    // A call that waited for a connection while its agent went away is not sent.
    if (this.finished) abort(new UpstreamAnswerError("ERR_CLIENT_GONE", "the agent closed the connection"));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode >= 100 && statusCode < 200) return true; // informational: the final answer follows
    if (statusCode < 100 || statusCode > 599) throw new UpstreamAnswerError("ERR_UPSTREAM_STATUS", `the upstream answered status ${statusCode}`);
    this.outcome.onResponse(this);
    this.resumeUpstream = resume;
    const headers: string[] = [];
    let decoder: (() => Transform) | undefined;
    let contentType: string | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i].toString("latin1").toLowerCase();
      if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
      const value = rawHeaders[i + 1].toString("latin1");
      if (name === "content-type") contentType = value;
      if (name === "content-encoding" && value.trim().toLowerCase() !== "identity") {
        decoder = DECODERS[value.trim().toLowerCase()];
        if (decoder === undefined) throw new UpstreamAnswerError("ERR_UPSTREAM_ENCODING", "the upstream's content encoding is not one the gateway can read");
        continue;
      }
      if (this.scrubber !== undefined && this.scrubber.scrubText(name) !== name) continue;
      headers.push(name, this.scrubber === undefined ? value : this.scrubber.scrubText(value));
    }
    this.stage = this.stageFor?.(statusCode, contentType);
    if (decoder !== undefined || this.stage !== undefined) {
      // Decoded or rewritten, the length differs: the answer goes out chunked.
      for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i] === "content-length") headers.splice(i, 2);
    }
    if (decoder !== undefined) this.decoder = this.decode(decoder());
    // Throws on a header Node refuses to send, before anything is written: the call then fails with 502.
    this.res.writeHead(statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.decoder !== undefined) return this.decoder.write(chunk);
    return this.send(chunk, this.resumeUpstream);
  }

  onComplete(): void {
    if (this.decoder !== undefined) this.decoder.end();
    else this.end();
  }

  onError(error: Error): void {
    this.cut(error);
  }

  /** Ends the call on an error: 502 while no status was sent, else the agent sees the answer cut off. */
  private cut(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.cutBy = error;
    this.decoder?.destroy();
    this.stage?.close();
    this.abortUpstream?.(error);
    if (this.res.headersSent) {
      this.res.destroy();
      this.outcome.onEnd(this, this.scrubber?.scrubbed ?? 0);
    } else this.outcome.onFailure(this, error);
  }

  /** Passes bytes through the stage, if any, and writes what it gives. */
  private send(chunk: Buffer, resume: (() => void) | undefined): boolean {
    let staged = chunk;
    try {
      if (this.stage !== undefined) staged = this.stage.push(chunk);
    } catch (error) {
      this.cut(error as Error);
      return true;
    }
    return this.write(staged, resume);
  }

  /** Writes bytes scrubbed; false, with `resume` called once the agent drained, when the agent is slow. */
  private write(staged: Buffer, resume: (() => void) | undefined): boolean {
    const out = this.scrubber === undefined ? staged : this.scrubber.push(staged);
    if (out.length === 0 || this.res.write(out)) return true;
    if (resume !== undefined) this.res.once("drain", resume);
    return false;
  }

  private end(): void {
    if (this.finished) return;
    if (this.stage !== undefined) {
      let tail: Buffer;
      try {
        tail = this.stage.end();
      } catch (error) {
        this.cut(error as Error);
        return;
      }
      if (tail.length > 0) this.write(tail, undefined);
      this.stage.close();
    }
    this.finished = true;
    const rest = this.scrubber?.end();
    if (rest === undefined) this.res.end();
    else this.res.end(rest);
    this.outcome.onEnd(this, this.scrubber?.scrubbed ?? 0);
  }

  /** Decodes a compressed body into `send`, bounded by `maxResponseBytes` decoded. */
  private decode(decoder: Transform): Transform {
    const resume = () => decoder.resume();
    decoder.on("data", (chunk: Buffer) => {
      this.decodedBytes += chunk.length;
      if (this.decodedBytes > this.maxResponseBytes) this.cut(new UpstreamAnswerError("ERR_UPSTREAM_TOO_LARGE", "the upstream's decoded answer is larger than allowed"));
      else if (!this.send(chunk, resume)) decoder.pause();
    });
    decoder.on("drain", () => this.resumeUpstream?.());
    decoder.on("end", () => this.end());
    decoder.on("error", () => this.cut(new UpstreamAnswerError("ERR_UPSTREAM_ENCODING", "the upstream's compressed answer does not decode")));
    return decoder;
  }
}
