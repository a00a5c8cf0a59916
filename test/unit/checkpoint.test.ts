import { createHash, generateKeyPairSync } from 'node:crypto';
import { bodyText, keyIdOf, openNote, parseBody, rawPublicKey, signCheckpoint, verifyNote } from '../../src/integrity/domain/checkpoint.js';

const key = () => { const { privateKey } = generateKeyPairSync('ed25519'); return { name: 'pdl.example', privateKey, publicKey: rawPublicKey(privateKey) }; };
const body = { origin: 'pdl.example/acme', treeSize: 42, rootHash: createHash('sha256').update('root').digest(), timestamp: '2026-11-29T10:00:00Z' };

describe('signed checkpoints (C2SP tlog-checkpoint in a signed note)', () => {
  it('writes the checkpoint body line by line, the timestamp as a signed extension line', () => {
    expect(bodyText(body)).toBe(`pdl.example/acme\n42\n${body.rootHash.toString('base64')}\ntimestamp 2026-11-29T10:00:00Z\n`);
    expect(parseBody(bodyText(body))).toEqual(body);
  });

  it('derives the key id as the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)', () => {
    const k = key();
    const expected = createHash('sha256').update(Buffer.concat([Buffer.from('pdl.example\n'), Buffer.from([1]), k.publicKey])).digest().subarray(0, 4);
    expect(keyIdOf('pdl.example', k.publicKey).equals(expected)).toBe(true);
  });

  it('signs a note that verifies with the key and its name, and with nothing else', () => {
    const k = key();
    const cp = signCheckpoint(body, k);
    expect(cp.note.startsWith(bodyText(body) + '\n\u2014 pdl.example ')).toBe(true);
    const sigLine = Buffer.from(cp.note.trimEnd().split(' ').pop()!, 'base64');
    expect(sigLine.subarray(0, 4).equals(keyIdOf(k.name, k.publicKey))).toBe(true);
    expect(sigLine.subarray(4).equals(cp.signature)).toBe(true);
    expect(verifyNote(cp.note, k.name, k.publicKey)).toBe(true);
    expect(verifyNote(cp.note, 'other.name', k.publicKey)).toBe(false);
    expect(verifyNote(cp.note, k.name, key().publicKey)).toBe(false);
    expect(verifyNote(cp.note.replace('\n42\n', '\n43\n'), k.name, k.publicKey)).toBe(false);
    expect(verifyNote(cp.note.replace('timestamp 2026', 'timestamp 2027'), k.name, k.publicKey)).toBe(false);
  });

  it('refuses what is not a signed note', () => {
    expect(openNote('no blank line\n')).toBeNull();
    expect(openNote('text\n\nnot a signature\n')).toBeNull();
    expect(openNote('text\n\n\u2014 name AAAA\n')).toBeNull();
    expect(parseBody('origin\nnot-a-number\nAAAA\n')).toBeNull();
    expect(parseBody(`origin\n1\n${Buffer.alloc(31).toString('base64')}\n`)).toBeNull();
  });
});
