/**
 * Import FIRST in an alerts test file, before anything reads the configuration: the
 * test's receivers listen on loopback (ALERT_ALLOW_PRIVATE_TARGETS=true unless the file
 * set it), a real SMTP server the file starts on SMTP_PORT, fast retries, links under a
 * known PUBLIC_URL, and rules that count at once (no rule cache).
 */
import { execFileSync } from 'node:child_process';

// A free port for the file's SMTP server, known before config is read (SMTP_URL is configuration).
const freePort = () =>
  Number(
    execFileSync(
      process.execPath,
      ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"],
      {
        encoding: 'utf8',
      },
    ),
  );

export const SMTP_PORT = freePort();
process.env.ALERT_ALLOW_PRIVATE_TARGETS ??= 'true';
process.env.SMTP_URL ??= `smtp://alerts:secret-pass@127.0.0.1:${SMTP_PORT}`;
process.env.SMTP_FROM ??= 'Faultline Alerts <alerts@faultline.test>';
process.env.PUBLIC_URL ??= 'http://faultline.test';
process.env.ALERT_DELIVERY_BACKOFF_MS ??= '200';
process.env.ALERT_DELIVERY_ATTEMPTS ??= '5';
process.env.ALERT_HTTP_CONNECT_TIMEOUT_MS ??= '2000';
process.env.ALERT_HTTP_TIMEOUT_MS ??= '2000';
process.env.ALERT_RULE_CACHE_MS ??= '0';
