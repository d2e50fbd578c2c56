// A call of any method, by its descriptor, with no generated code: requests and replies are the
// messages' bytes (identity serializers), the JSON on either side is the caller's business.
import { once } from 'node:events';
import type { DescMethod } from '@bufbuild/protobuf';
import { status, type CallOptions, type Client, type ClientWritableStream, type Metadata } from '@grpc/grpc-js';
import { CfgError } from '../errors.ts';
import { statusOf, type CallStatus } from './call-status.ts';

const serialize = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const deserialize = (bytes: Buffer): Uint8Array => bytes;

export interface DynamicCall {
  method: DescMethod;
  /** One request for unary and server-streaming methods; any number, as they come, for the others. */
  requests: AsyncIterable<Uint8Array>;
  metadata: Metadata;
  options: CallOptions;
  /** Each reply as it arrives. */
  onReply(bytes: Uint8Array): void;
}

/**
 * Makes the call and resolves to its final status (OK included); never rejects for a status. A
 * failure reading the requests (bad JSON) cancels the call and is thrown once it has ended.
 */
export async function invoke(client: Client, call: DynamicCall): Promise<CallStatus> {
  const path = `/${call.method.parent.typeName}/${call.method.name}`;
  const { metadata, options, onReply } = call;
  const kind = call.method.methodKind;
  const clientStreams = kind === 'client_streaming' || kind === 'bidi_streaming';
  let single: Uint8Array | undefined;
  if (!clientStreams) {
    for await (const r of call.requests) {
      if (single)
        throw new CfgError(
          'E_USAGE',
          `${call.method.parent.typeName}/${call.method.name} takes one request; more than one was given.`,
          'Send one JSON object (several are for client-streaming and bidi methods).',
        );
      single = r;
    }
  }
  const request = single ?? new Uint8Array();

  let feedError: unknown;
  const feed = async (stream: ClientWritableStream<Uint8Array> & { cancel(): void }) => {
    let ended = false;
    stream.on('status', () => (ended = true));
    try {
      for await (const r of call.requests) {
        if (ended) return;
        if (!stream.write(r)) await once(stream, 'drain');
      }
      stream.end();
    } catch (err) {
      feedError = err;
      stream.cancel();
    }
  };
  const finish = (s: CallStatus): CallStatus => {
    if (feedError) throw feedError;
    return s;
  };

  if (kind === 'unary' || kind === 'client_streaming') {
    return new Promise<CallStatus>((resolve, reject) => {
      const done = (err: unknown, reply?: Uint8Array) => {
        if (reply) onReply(reply);
        try {
          resolve(finish(err ? (statusOf(err) ?? { code: status.UNKNOWN, details: String(err) }) : { code: status.OK, details: '' }));
        } catch (e) {
          reject(e);
        }
      };
      if (kind === 'unary') client.makeUnaryRequest(path, serialize, deserialize, request, metadata, options, done);
      else void feed(client.makeClientStreamRequest(path, serialize, deserialize, metadata, options, done));
    });
  }
  let stream: AsyncIterable<Uint8Array>;
  if (kind === 'server_streaming') stream = client.makeServerStreamRequest(path, serialize, deserialize, request, metadata, options);
  else {
    const duplex = client.makeBidiStreamRequest(path, serialize, deserialize, metadata, options);
    void feed(duplex);
    stream = duplex;
  }
  try {
    for await (const reply of stream) onReply(reply);
  } catch (err) {
    return finish(statusOf(err) ?? { code: status.UNKNOWN, details: String(err) });
  }
  return finish({ code: status.OK, details: '' });
}
