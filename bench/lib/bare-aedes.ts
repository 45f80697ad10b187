// The baseline: a bare aedes broker (no auth, no Kafka) on the port given, for `npm run bench`.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? 21890);
const aedes = await Aedes.createBroker();
createServer(aedes.handle).listen(port, '127.0.0.1', () => console.log(`bare aedes on ${port}`));
