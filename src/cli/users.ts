import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/config.ts';
import { addUser, setUserDisabled, setUserSecret } from '../users/edit.ts';
import { loadUsers } from '../users/load.ts';
import { OfficeRole } from '../users/schema.ts';
import { type Command, type OptionSpecs, parseOptions, usageError } from './command.ts';

const USAGE = `machi users list [--file FILE]
machi users add NAME --role viewer|operator [--stdin] [--file FILE]
machi users passwd NAME [--stdin] [--file FILE]
machi users disable|enable NAME [--file FILE]
(a password is generated and shown once, or read from stdin with --stdin; a running broker reloads
the file: a disabled user or a changed password is disconnected at once)`;

const options = {
  file: { type: 'string', arg: 'FILE', help: 'the users file (default MACHI_USERS_FILE)' },
  role: { type: 'string', arg: 'ROLE', help: 'add: viewer or operator' },
  stdin: { type: 'boolean', help: 'add, passwd: read the password from stdin instead of generating one' },
} satisfies OptionSpecs;

export const usersCommand: Command = {
  name: 'users',
  summary: 'office accounts: add, change a password, disable (stored as scrypt hashes)',
  usage: USAGE,
  options,
  async run(args) {
    const { values, positionals } = parseOptions(options, args);
    const file = values.file ?? loadConfig().usersFile;
    const [action, name] = positionals;
    const given = values.stdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
    const shown = (secret: string) => {
      if (given === undefined) console.log(`password (shown once, only its hash is stored): ${secret}`);
    };
    if (action === 'list') {
      console.log(['name', 'role', 'disabled'].join('\t'));
      for (const u of loadUsers(file).users.values()) console.log([u.name, u.role, u.disabled].join('\t'));
      return 0;
    }
    if (action === 'add' && name) {
      const role = OfficeRole.safeParse(values.role);
      if (!role.success) {
        console.error('--role viewer|operator is required');
        return 2;
      }
      shown(addUser(file, name, role.data, given));
      console.log(`added ${name} (${role.data}) to ${file}`);
      return 0;
    }
    if (action === 'passwd' && name) {
      shown(setUserSecret(file, name, given));
      console.log(`password of ${name} changed in ${file}`);
      return 0;
    }
    if ((action === 'disable' || action === 'enable') && name) {
      setUserDisabled(file, name, action === 'disable');
      console.log(`${name} ${action}d in ${file}`);
      return 0;
    }
    return usageError(this);
  },
};
