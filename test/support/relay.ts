import net from 'node:net';

/**
 * A TCP relay to PostgreSQL that can fail as a network does: `cut` breaks every connection and refuses
 * new ones, `hang` breaks them and takes new ones without ever answering (a partition), `mend` relays
 * again; `freeze` stops carrying anything either way on the connections it has, keeping them open (a
 * client paused or cut off in the middle of what it was doing, as the server sees it).
 */
export async function relay(to: URL) {
  let mode: 'open' | 'cut' | 'hang' = 'open';
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (mode === 'cut') { client.destroy(); return; }
    if (mode === 'hang') return;
    const upstream = net.connect(Number(to.port || 5432), to.hostname);
    sockets.add(upstream);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    upstream.on('close', () => { sockets.delete(upstream); pairs.delete(pair); client.destroy(); });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const breakAll = () => { for (const s of sockets) s.destroy(); };
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() { mode = 'cut'; breakAll(); },
    hang() { mode = 'hang'; breakAll(); },
    mend() { mode = 'open'; },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close: () => { breakAll(); return new Promise<void>((r) => server.close(() => r())); },
  };
}
