import React, { useState } from 'react';

/** A new key's secret, on the one page view that follows its creation. The server keeps only its hash. */
const SecretOnce = ({ record }) => {
  const secret = record.params.secret;
  const [copied, setCopied] = useState(false);
  if (!secret) return null;
  const copy = () => navigator.clipboard?.writeText(secret).then(() => setCopied(true));
  return (
    <div data-secret-once style={{ background: '#fff0f6', border: '2px solid #d6336c', borderRadius: 10, padding: 16, marginBottom: 24 }}>
      <div style={{ fontWeight: 700, color: '#9d0b43', marginBottom: 8 }}>Copy this key now: it will not be shown again.</div>
      <code
        data-secret
        style={{
          fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
          fontSize: 15,
          wordBreak: 'break-all',
          background: '#fff',
          padding: '6px 8px',
          borderRadius: 6,
          display: 'inline-block',
        }}
      >
        {secret}
      </code>
      <button
        type="button"
        onClick={copy}
        style={{ marginLeft: 12, background: '#d6336c', color: '#fff', border: 0, borderRadius: 6, padding: '6px 12px', cursor: 'pointer' }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
};

export default SecretOnce;
