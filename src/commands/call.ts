import { Command } from 'commander';
import { exitWithStatus, withTargetOptions, type TargetOptions } from './grpc-target.ts';

interface CallOptions extends TargetOptions {
  data?: string;
  compact?: boolean;
  emitDefaults?: boolean;
}

/**
 * cfg call <address> <pkg.Service/Method> [json]: any method of a running server, JSON in and out
 * (grpcurl's job). Exit code: the call's status code (0 OK, 5 NOT_FOUND, ...).
 */
export function callCommand(): Command {
  return withTargetOptions(
    new Command('call')
      .description('Call a method of a running server with JSON in and JSON out; the exit code is the gRPC status code')
      .argument('<address>', 'the server, host:port (e.g. localhost:50051)')
      .argument('<method>', 'package.Service/Method (cfg list <address> shows them)')
      .argument('[json]', 'the request as JSON (default {}); @file reads a file, @- stdin')
      .option(
        '-d, --data <json>',
        'the request(s) as JSON, @file or @- for stdin; client-streaming and bidi methods read stdin when no data is given',
      )
      .option('--compact', 'print each reply on one line (newline-delimited JSON) instead of indented')
      .option('--emit-defaults', 'print fields that hold their default value (0, "", false) too'),
  ).action(async (address: string, method: string, json: string | undefined, opts: CallOptions) => {
    const { CfgError } = await import('../errors.ts');
    if (json !== undefined && opts.data !== undefined)
      throw new CfgError('E_USAGE', 'The request is given twice: as an argument and with -d.', 'Give one of them.');
    const { openTarget } = await import('./grpc-target.ts');
    await exitWithStatus(async () => {
      const target = await openTarget(address, opts);
      try {
        await call(target, address, method, json ?? opts.data, opts);
      } finally {
        target.close();
      }
    });
  });
}

async function call(
  target: Awaited<ReturnType<typeof import('./grpc-target.ts').openTarget>>,
  address: string,
  name: string,
  data: string | undefined,
  opts: CallOptions,
): Promise<void> {
  const [{ resolveMethod }, { invoke }, { jsonValues }, { jsonCodecOf, JsonCodecError }, { CfgError }, { CallStatusError }] =
    await Promise.all([
      import('../client/descriptor-source.ts'),
      import('../client/dynamic-call.ts'),
      import('../client/json-values.ts'),
      import('../proto/json-codec.ts'),
      import('../errors.ts'),
      import('../client/call-status.ts'),
    ]);
  const method = await resolveMethod(target.source, name, address);
  const registry = (await target.source.registryFor(method.parent.typeName))!;
  const codec = jsonCodecOf(registry);
  const streamsIn = method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming';

  const texts = async function* (): AsyncGenerator<string> {
    if (data === undefined && !streamsIn) yield '{}';
    else if (data === '@-' || data === '@' || data === undefined) yield* jsonValues(process.stdin);
    else if (data.startsWith('@')) {
      const { createReadStream } = await import('node:fs');
      const file = createReadStream(data.slice(1));
      const opened = new Promise<void>((resolve, reject) => file.once('open', () => resolve()).once('error', reject));
      await opened.catch((err: Error) => {
        throw new CfgError('E_NOT_FOUND', `Cannot read the request file ${data.slice(1)}: ${err.message}`);
      });
      yield* jsonValues(file);
    } else yield* jsonValues([data]);
  };
  const requests = async function* (): AsyncGenerator<Uint8Array> {
    let n = 0;
    for await (const text of texts()) {
      n++;
      try {
        yield codec.jsonToBinary(method.input, text);
      } catch (err) {
        if (!(err instanceof JsonCodecError)) throw err;
        throw new CfgError(
          'E_USAGE',
          `Request ${n} is not a valid ${method.input.typeName}: ${err.message.replace(`${method.input.typeName}: `, '')}`,
          `cfg describe ${address} ${method.input.typeName} shows its fields.`,
        );
      }
    }
  };

  const result = await invoke(target.client!, {
    method,
    requests: requests(),
    metadata: target.metadata,
    options: target.deadline ? { deadline: target.deadline } : {},
    onReply: (bytes) =>
      process.stdout.write(`${codec.binaryToJson(method.output, bytes, { pretty: !opts.compact, emitDefaults: opts.emitDefaults })}\n`),
  });
  // stdin may still be open (a terminal): it must not keep the process alive.
  if (streamsIn) process.stdin.destroy();
  if (result.code !== 0) throw new CallStatusError(result.code, result.details);
}
