// The outbound queue: what `postkeep queue list|retry|delete` does, over HTTPS.
import { NotFound } from '../errors.js';
import { positiveId, type Route } from './admin-routes.js';

export const queueRoutes: Route[] = [
  {
    method: 'GET',
    path: '/queue',
    action: 'queue_list',
    async handle({ store }) {
      return { body: { messages: await store.outbound.list() } };
    },
  },
  {
    method: 'POST',
    path: '/queue/retry',
    action: 'queue_retry',
    async handle({ store }) {
      const recipients = await store.outbound.retry();
      return { body: { recipientsDue: recipients }, logFields: { recipients } };
    },
  },
  {
    method: 'POST',
    path: '/queue/:id/retry',
    action: 'queue_retry',
    async handle({ store }, request) {
      const id = positiveId(request.params.id!, 'a queue id');
      const recipients = await store.outbound.retry(id);
      if (recipients === 0) throw new NotFound(`there is no queued message ${id} with recipients left`);
      return { body: { recipientsDue: recipients }, logFields: { id, recipients } };
    },
  },
  {
    method: 'DELETE',
    path: '/queue/:id',
    action: 'queue_delete',
    async handle({ store }, request) {
      const id = positiveId(request.params.id!, 'a queue id');
      if (!(await store.outbound.remove(id))) throw new NotFound(`there is no queued message ${id}`);
      return { body: { deleted: id }, logFields: { id } };
    },
  },
];
