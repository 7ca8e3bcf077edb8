import { fileURLToPath } from 'node:url';
import { ComponentLoader } from 'adminjs';

/**
 * Every React component of the back-office, registered once. AdminJS bundles them with
 * rollup: at build time for production (`npm run build` runs src/admin/bundle.ts), on
 * first use in development. They live in ./components as .jsx, which tsc never sees;
 * the build copies them next to the compiled code so the same paths resolve from dist/.
 */
export const componentLoader = new ComponentLoader();

const file = (name: string) => fileURLToPath(new URL(`./components/${name}.jsx`, import.meta.url));
const add = (name: string) => componentLoader.add(name, file(name));

export const Components = {
  Dashboard: add('Dashboard'),
  LiveTail: add('LiveTail'),
  Queues: add('Queues'),
  CodeBlock: add('CodeBlock'),
  JsonBlock: add('JsonBlock'),
  Excerpt: add('Excerpt'),
  LevelBadge: add('LevelBadge'),
  SecretOnce: add('SecretOnce'),
  Confirm: add('Confirm'),
  DumpFacts: add('DumpFacts'),
  Trace: add('Trace'),
  TraceLink: add('TraceLink'),
  IssuePage: add('IssuePage'),
  ReleaseHealth: add('ReleaseHealth'),
  SidebarPages: componentLoader.override('SidebarPages', file('SidebarPages')),
};
