// raven (the legacy Sentry client for node, used as a real client in tests) ships no types.
declare module 'raven';
