// Every command this server runs, by name. A parsed command that is not here would be
// answered `BAD ... not supported`.
import type { CommandName } from '../parser/index.js';
import append from './append.js';
import authenticate from './authenticate.js';
import capability from './capability.js';
import check from './check.js';
import { close, unselect } from './close.js';
import type { CommandSpec } from './command.js';
import compress from './compress.js';
import { copy, move } from './copy.js';
import create from './create.js';
import deleteCommand from './delete.js';
import enable from './enable.js';
import { expunge, uidExpunge } from './expunge.js';
import fetch from './fetch.js';
import id from './id.js';
import idle from './idle.js';
import { list, lsub } from './list.js';
import login from './login.js';
import logout from './logout.js';
import namespace from './namespace.js';
import noop from './noop.js';
import { getQuota, getQuotaRoot } from './quota.js';
import rename from './rename.js';
import search from './search.js';
import { examine, select } from './select.js';
import sort from './sort.js';
import starttls from './starttls.js';
import status from './status.js';
import store from './store.js';
import thread from './thread.js';
import { subscribe, unsubscribe } from './subscribe.js';

const all: CommandSpec<any>[] = [
  append, authenticate, capability, check, close, unselect, compress, copy, move, create, deleteCommand, enable, expunge, uidExpunge,
  fetch, id, idle, list, lsub, login, logout, namespace, noop, getQuota, getQuotaRoot, rename, search, select, examine, sort, starttls, status, store, thread, subscribe, unsubscribe,
];

export const commands: ReadonlyMap<CommandName, CommandSpec<any>> = new Map(all.map((spec) => [spec.name, spec]));
