// The shape every command file exports (STYLE.md: one file per command, with its
// states and its RFC): a name, the states it may run in, and a handler.
import type { Command, CommandName } from '../parser/index.js';
import type { ImapReply } from '../response.js';
import type { Session, SessionState } from '../session.js';

// Distributes over the union, so that a member named `'COPY' | 'MOVE'` is found for either name.
type Named<C, N> = C extends { name: infer M } ? (N extends M ? C : never) : never;
export type CommandOf<N extends CommandName> = Named<Command, N>;

export interface CommandSpec<N extends CommandName = CommandName> {
  name: N;
  states: readonly SessionState[];
  /** Resolves to the tagged reply; nothing means `OK <NAME> completed`. Throws ImapReply or a typed error. */
  handler(session: Session, command: CommandOf<N>): Promise<ImapReply | void>;
}

export const anyState = ['not-authenticated', 'authenticated', 'selected'] as const;
export const authenticatedStates = ['authenticated', 'selected'] as const;
export const selectedState = ['selected'] as const;

export function defineCommand<N extends CommandName>(spec: CommandSpec<N>): CommandSpec<N> {
  return spec;
}
