// The second SCIM peer: SCIMMY (Node) behind its express routers
// (scimmy-routers), users in memory, a static bearer token. SCIMMY leaves
// storage and filtering to the application: egress filters with SCIMMY's
// own Filter.match, as its documentation shows.
//
// Started by benches/compare/run from target/bench-compare/node; PORT and
// TOKEN from the environment. Exits by itself after BENCH_LIFETIME_SECONDS.

import { randomUUID } from 'node:crypto';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

const port = Number(process.env.PORT);
const token = process.env.TOKEN;
const lifetime = Number(process.env.BENCH_LIFETIME_SECONDS || 3600);
setTimeout(() => process.exit(0), lifetime * 1000).unref();

const users = new Map();

SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .ingress((resource, instance) => {
    const id = resource.id ?? randomUUID();
    const now = new Date().toISOString();
    const stored = { ...instance, id, meta: { created: users.get(id)?.meta?.created ?? now, lastModified: now } };
    users.set(id, stored);
    return stored;
  })
  .egress((resource) => {
    if (resource.id) return users.get(resource.id);
    const all = [...users.values()];
    return resource.filter ? resource.filter.match(all) : all;
  });

const app = express();
app.use('/scim/v2', new SCIMMYRouters({
  type: 'bearer',
  handler: (req) => {
    if (req.header('Authorization') !== `Bearer ${token}`) throw new Error('Authorization failed');
    return 'bench';
  },
}));
app.listen(port, '127.0.0.1', () => console.log(`SCIMMY on 127.0.0.1:${port}`));
