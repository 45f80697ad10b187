import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { provisionSign, revokeSign } from '../users/edit.ts';
import { loadUsers } from '../users/load.ts';
import { type Command, type OptionSpecs, parseOptions, usageError } from './command.ts';

const USAGE = `machi signs list [--file FILE]
machi signs add SITE [--file FILE]      (a new token for the sign; any old one stops working)
machi signs revoke SITE [--file FILE]   (a running broker disconnects the sign at once)`;

const options = {
  file: {
    type: 'string',
    arg: 'FILE',
    help: 'the users file holding the sign tokens (default MACHI_USERS_FILE)',
  },
} satisfies OptionSpecs;

export const signsCommand: Command = {
  name: 'signs',
  summary: "each sign's own credential: provision (token shown once) or revoke",
  usage: USAGE,
  options,
  async run(args) {
    const { values, positionals } = parseOptions(options, args);
    const config = loadConfig();
    const file = values.file ?? config.usersFile;
    const [action, site] = positionals;
    if (action === 'list') {
      const provisioned = loadUsers(file).signs;
      for (const s of loadRegistry(config.devicesDir).sites.values())
        if (s.signage) console.log(`${s.id}\t${provisioned.has(s.id) ? 'provisioned' : '-'}`);
      return 0;
    }
    if (action === 'add' && site) {
      if (!loadRegistry(config.devicesDir).sites.get(site)?.signage) {
        console.error(`no sign at site "${site}" in ${config.devicesDir}`);
        return 2;
      }
      const token = provisionSign(file, site);
      console.log(`token for ${site} (shown once, only its hash is stored in ${file}): ${token}`);
      console.log(`open the sign once at: /signage/${site}#token=${token}`);
      return 0;
    }
    if (action === 'revoke' && site) {
      revokeSign(file, site);
      console.log(`${site} revoked in ${file}`);
      return 0;
    }
    return usageError(this);
  },
};
