import { loadConfig } from '../config/config.js';

const USAGE = `usage: pdl <command>

commands:
  serve     run the ledger (HTTP on PDL_HTTP_PORT, gRPC on PDL_GRPC_PORT, data in PDL_DATA_DIR)
  help      show this text
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'serve': {
      const { startLedger } = await import('../bootstrap.js');
      await startLedger(loadConfig());
      return -1;
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`pdl: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`pdl: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
