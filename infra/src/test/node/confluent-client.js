// Drives a real third-party Confluent Schema Registry client (@kafkajs/confluent-schema-registry,
// pinned with avsc in package.json) for NpmConfluentClientIT: our registry stand-in and our
// Confluent wire-format serde are checked against it, in both directions.
//
// usage:
//   node confluent-client.js encode <registry-url> <subject> <schema-file> <values-file>
//     registers the schema under the subject (twice), looks it up by schema and reads the latest
//     version, encodes the values with it, and prints
//     {"id", "againId", "lookupId", "latestId", "payload": <base64>}
//   node confluent-client.js decode <registry-url> <subject> <schema-file> <payload-file>
//     decodes the payload with a fresh client (so the writer schema is fetched by id over REST),
//     then registers the schema itself and reads the latest version; prints
//     {"id": <id in the header>, "schemaName", "value", "registeredId", "latestId"}
//
// Values are plain JSON as avsc takes them (unions unwrapped, enum symbols as strings), except
// that every Avro long is a decimal string: avsc's own long type refuses values beyond 2^53, and
// our seeds use all 64 bits, so longs are BigInts here (avsc's documented custom long type).
// Prints exactly one JSON line on stdout; on any failure prints the error on stderr and exits 1.
'use strict';

const fs = require('fs');
const avro = require('avsc');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const bigLong = avro.types.LongType.__with({
  fromBuffer: buf => buf.readBigInt64LE(),
  toBuffer: n => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: x => BigInt(x),
  toJSON: n => n.toString(),
  isValid: n => typeof n === 'bigint',
  compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
});

// A type hook, not avsc's `registry` option: the client hands the same options to every schema it
// parses, and a shared registry would already hold the record's name on the second parse.
const isLong = s => s === 'long' || (s !== null && typeof s === 'object' && s.type === 'long');

function client(url) {
  return new SchemaRegistry(
    { host: url, retry: { retries: 0 } },
    { [SchemaType.AVRO]: { typeHook: s => (isLong(s) ? bigLong : undefined) } });
}

// plain JSON -> the value avsc encodes: decimal strings become BigInts where the schema has a long
function fromPlain(type, v, where) {
  switch (type.typeName) {
    case 'abstract:long':
      if (typeof v !== 'string' || !/^-?[0-9]+$/.test(v)) {
        throw new Error(`${where}: a long must be a decimal string, got ${JSON.stringify(v)}`);
      }
      return BigInt(v);
    case 'record':
    case 'error': {
      const out = {};
      for (const f of type.fields) {
        if (!(f.name in v)) {
          throw new Error(`${where}: field '${f.name}' is missing from the values`);
        }
        out[f.name] = fromPlain(f.type, v[f.name], `${where}.${f.name}`);
      }
      return out;
    }
    case 'array':
      return v.map((x, i) => fromPlain(type.itemsType, x, `${where}[${i}]`));
    case 'map':
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, fromPlain(type.valuesType, x, `${where}.${k}`)]));
    case 'union:unwrapped': {
      if (v === null) return null;
      const branches = type.types.filter(t => t.typeName !== 'null');
      return branches.length === 1 ? fromPlain(branches[0], v, where) : v;
    }
    default:
      return v;
  }
}

// decoded value -> JSON text: BigInt longs back to decimal strings
const toJson = o => JSON.stringify(o, (k, v) => (typeof v === 'bigint' ? v.toString() : v));

async function encode(url, subject, schemaFile, valuesFile) {
  const schema = { type: SchemaType.AVRO, schema: fs.readFileSync(schemaFile, 'utf8') };
  const registry = client(url);
  const { id } = await registry.register(schema, { subject });
  const { id: againId } = await registry.register(schema, { subject });
  const lookupId = await registry.getRegistryIdBySchema(subject, schema);
  const latestId = await registry.getLatestSchemaId(subject);
  const type = await registry.getSchema(id);
  const value = fromPlain(type, JSON.parse(fs.readFileSync(valuesFile, 'utf8')), type.name);
  const payload = await registry.encode(id, value);
  return { id, againId, lookupId, latestId, payload: payload.toString('base64') };
}

async function decode(url, subject, schemaFile, payloadFile) {
  const payload = fs.readFileSync(payloadFile);
  const id = payload.readInt32BE(1);
  const reader = client(url);
  const value = await reader.decode(payload);
  const schemaName = (await reader.getSchema(id)).name;
  // a second, fresh client registers the same text: the registry must answer with the same id
  const writer = client(url);
  const schema = { type: SchemaType.AVRO, schema: fs.readFileSync(schemaFile, 'utf8') };
  const { id: registeredId } = await writer.register(schema, { subject });
  const latestId = await writer.getLatestSchemaId(subject);
  return { id, schemaName, value, registeredId, latestId };
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  const usage =
    'usage: node confluent-client.js encode|decode <registry-url> <subject> <schema-file> ' +
    '<values-file|payload-file>';
  if (args.length !== 4 || args.some(a => !a)) throw new Error(usage);
  if (mode === 'encode') return encode(...args);
  if (mode === 'decode') return decode(...args);
  throw new Error(`unknown mode '${mode}'; ${usage}`);
}

main().then(
  result => console.log(toJson(result)),
  e => {
    const status = e && e.status ? ` (HTTP ${e.status})` : '';
    console.error(`confluent-client.js failed${status}: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  });
