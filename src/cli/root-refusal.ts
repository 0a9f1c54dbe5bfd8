// `postkeep start` does not serve as root. A mail server parses hostile input all day;
// as root, one bug gives away the machine. Binding ports below 1024 does not need
// root: a dedicated user with CAP_NET_BIND_SERVICE (systemd: AmbientCapabilities=)
// can. Dropping to another user after listen() was the alternative, but the data
// folder would then hold files made as root that the dropped user cannot write.
import type { Config } from '../config/schema.js';
import { PostkeepError } from '../errors.js';

export class RunningAsRoot extends PostkeepError {
  constructor() {
    super(
      'server.root_refused',
      'refusing to serve mail as root: run `postkeep start` as a dedicated user that owns the data folder ' +
        '(e.g. `useradd --system postkeep`; for ports below 1024 give it CAP_NET_BIND_SERVICE: ' +
        'User=postkeep and AmbientCapabilities=CAP_NET_BIND_SERVICE in a systemd unit, or ' +
        '`setcap cap_net_bind_service=+ep $(command -v node)`); to run as root anyway set allowRoot = true or POSTKEEP_ALLOW_ROOT=1',
    );
  }
}

/** Throws RunningAsRoot when the process is root and neither the config nor the environment allows it. */
export function refuseRoot(config: Pick<Config, 'allowRoot'>, environment: NodeJS.ProcessEnv = process.env): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  if (config.allowRoot || environment.POSTKEEP_ALLOW_ROOT === '1') return;
  throw new RunningAsRoot();
}
