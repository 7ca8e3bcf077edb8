/** Import before alertsEnv.ts: this file's alerts may reach public addresses only (the default outside tests). */
process.env.ALERT_ALLOW_PRIVATE_TARGETS = 'false';
