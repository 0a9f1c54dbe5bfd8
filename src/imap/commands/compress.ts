// COMPRESS=DEFLATE — RFC 4978. Authenticated or selected; once per connection.
import { bad, no } from '../response.js';
import { authenticatedStates, defineCommand } from './command.js';

export default defineCommand({
  name: 'COMPRESS',
  states: authenticatedStates,
  async handler(session, command) {
    if (command.algorithm !== 'DEFLATE') throw bad(`unknown compression algorithm ${command.algorithm}`);
    // RFC 4978 §3: a second COMPRESS is refused with COMPRESSIONACTIVE.
    if (session.connection.compressed) throw no('compression is already active', 'COMPRESSIONACTIVE');
    await session.connection.startCompression();
  },
});
