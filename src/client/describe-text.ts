// `cfg describe`: a service, method, message or enum shown as the .proto text that defines it, with
// its comments (grpcurl's describe, in short).
import type { DescEnum, DescField, DescFile, DescMessage, DescMethod, DescService, FileRegistry } from '@bufbuild/protobuf';
import { codegen, protobuf } from '../proto/protobuf.ts';

const { ScalarType } = protobuf;
const { pathInFileDesc } = codegen();

/** The leading comment of the element at `path` in its file, as `// ` lines at `indent`. */
function comment(file: DescFile, path: number[], indent: string): string {
  const location = file.proto.sourceCodeInfo?.location.find((l) => l.path.length === path.length && l.path.every((p, i) => p === path[i]));
  const text = location?.leadingComments?.replace(/\n$/, '');
  return text
    ? text
        .split('\n')
        .map((l) => `${indent}//${l}\n`)
        .join('')
    : '';
}

function typeName(field: DescField): string {
  const named = (d: DescMessage | DescEnum) => `.${d.typeName}`;
  switch (field.fieldKind) {
    case 'scalar':
      return ScalarType[field.scalar].toLowerCase();
    case 'enum':
      return named(field.enum);
    case 'message':
      return named(field.message);
    case 'list':
      return `repeated ${field.listKind === 'scalar' ? ScalarType[field.scalar].toLowerCase() : named(field.listKind === 'enum' ? field.enum : field.message)}`;
    case 'map': {
      const value =
        field.mapKind === 'scalar' ? ScalarType[field.scalar].toLowerCase() : named(field.mapKind === 'enum' ? field.enum : field.message);
      return `map<${ScalarType[field.mapKey].toLowerCase()}, ${value}>`;
    }
  }
}

function rpc(method: DescMethod, indent: string): string {
  const service = method.parent;
  const path = [...pathInFileDesc(service), 2, service.methods.indexOf(method)];
  const streams = (yes: boolean) => (yes ? 'stream ' : '');
  const clientStreams = method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming';
  const serverStreams = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
  return `${comment(service.file, path, indent)}${indent}rpc ${method.name} ( ${streams(clientStreams)}.${method.input.typeName} ) returns ( ${streams(serverStreams)}.${method.output.typeName} );\n`;
}

function service(desc: DescService): string {
  return `${comment(desc.file, pathInFileDesc(desc), '')}service ${desc.name} {\n${desc.methods.map((m) => rpc(m, '  ')).join('')}}\n`;
}

function message(desc: DescMessage, indent = ''): string {
  const base = pathInFileDesc(desc);
  const line = (f: DescField, at: string) => {
    const optional = f.proto.proto3Optional ? 'optional ' : '';
    return `${comment(desc.file, [...base, 2, desc.proto.field.indexOf(f.proto)], at)}${at}${optional}${typeName(f)} ${f.name} = ${f.number};\n`;
  };
  let body = '';
  for (const member of desc.members) {
    if (member.kind === 'field') body += line(member, `${indent}  `);
    else if (member.kind === 'oneof')
      body += `${indent}  oneof ${member.name} {\n${member.fields.map((f) => line(f, `${indent}    `)).join('')}${indent}  }\n`;
  }
  for (const nested of desc.nestedMessages) body += message(nested, `${indent}  `);
  for (const nested of desc.nestedEnums) body += enumText(nested, `${indent}  `);
  return `${comment(desc.file, base, indent)}${indent}message ${desc.name} {\n${body}${indent}}\n`;
}

function enumText(desc: DescEnum, indent = ''): string {
  const values = desc.values.map((v) => `${indent}  ${v.name} = ${v.number};\n`).join('');
  return `${comment(desc.file, pathInFileDesc(desc), indent)}${indent}enum ${desc.name} {\n${values}${indent}}\n`;
}

/** "crypto.CryptoService is a service:" and its definition; undefined when the registry has no such symbol. */
export function describeSymbol(registry: FileRegistry, symbol: string): string | undefined {
  const name = symbol.replace(/^\./, '');
  const desc = registry.get(name);
  if (desc?.kind === 'service') return `${name} is a service:\n${service(desc)}`;
  if (desc?.kind === 'message') return `${name} is a message:\n${message(desc)}`;
  if (desc?.kind === 'enum') return `${name} is an enum:\n${enumText(desc)}`;
  const at = name.lastIndexOf('.');
  const method = at > 0 ? registry.getService(name.slice(0, at))?.methods.find((m) => m.name === name.slice(at + 1)) : undefined;
  if (method) return `${name} is a method:\n${rpc(method, '')}`;
  return undefined;
}
