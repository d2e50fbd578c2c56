// The JSON codec cfg call and the Connect protocol share: canonical proto3 JSON over the app's
// descriptor set, checked against the ts-proto stubs the services read and write.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { appRawFiles, builtinRawFiles } from '../src/proto/descriptors.ts';
import { createJsonCodec, JsonCodecError } from '../src/proto/json-codec.ts';
import { CoinSort, ListCoinsRequest, TransferRecord } from '../generated/crypto_service.ts';
import { REPO } from './fixtures/project.ts';

const codec = createJsonCodec([...appRawFiles(join(REPO, 'generated')), ...builtinRawFiles()]);

test('JSON in: lowerCamel names and enum names become the bytes the ts-proto stub reads', () => {
  const schema = codec.message('crypto.ListCoinsRequest')!;
  const bytes = codec.jsonToBinary(schema, '{"pageSize": 5, "sort": "COIN_SORT_SYMBOL", "includeInactive": true}');
  assert.deepEqual(ListCoinsRequest.decode(bytes), { pageSize: 5, pageToken: '', sort: CoinSort.COIN_SORT_SYMBOL, includeInactive: true });
  // The proto field names are accepted too, as the canonical mapping requires.
  assert.deepEqual(ListCoinsRequest.decode(codec.jsonToBinary(schema, '{"page_size": 7}')).pageSize, 7);
});

test('JSON out: int64 as a string, Timestamp as RFC 3339, enum by name, defaults left out', () => {
  const schema = codec.message('crypto.TransferRecord')!;
  const at = new Date('2026-11-30T01:02:03.004Z');
  const bytes = TransferRecord.encode(TransferRecord.fromPartial({ id: 9007199254740993n, kind: 'deposit', createdAt: at })).finish();
  const json = JSON.parse(codec.binaryToJson(schema, bytes)) as Record<string, unknown>;
  assert.equal(json.id, '9007199254740993');
  assert.equal(json.kind, 'deposit');
  assert.equal(json.createdAt, '2026-11-30T01:02:03.004Z');
  assert.equal('amount' in json, false);
  assert.deepEqual(
    JSON.parse(
      codec.binaryToJson(
        codec.message('crypto.ListCoinsRequest')!,
        ListCoinsRequest.encode({ pageSize: 0, pageToken: '', sort: CoinSort.COIN_SORT_PRICE, includeInactive: false }).finish(),
      ),
    ),
    { sort: 'COIN_SORT_PRICE' },
  );
});

test('bad JSON is refused with the message type and the reason: unknown field, wrong type, not JSON', () => {
  const schema = codec.message('crypto.GetCoinRequest')!;
  const refused = (json: string, reason: RegExp) =>
    assert.throws(
      () => codec.jsonToBinary(schema, json),
      (err: unknown) => err instanceof JsonCodecError && /^crypto\.GetCoinRequest: /.test(err.message) && reason.test(err.message),
    );
  refused('{"symbol": "BTC", "colour": "red"}', /colour/);
  refused('{"symbol": 12}', /symbol/);
  refused('{"symbol": ', /JSON|Unexpected|end/i);
  assert.equal(codec.message('crypto.NoSuchMessage'), undefined);
});
