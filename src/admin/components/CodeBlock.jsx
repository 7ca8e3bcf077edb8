import React from 'react';
import { flat } from 'adminjs';

/** A stack trace, prompt or response: monospace, wrapped, scrollable, easy to copy. */
const CodeBlock = ({ property, record }) => {
  const value = flat.get(record.params, property.path);
  return (
    <div style={{ marginBottom: 24 }}>
      <div style={{ fontSize: 12, textTransform: 'uppercase', color: '#8a6d7a', marginBottom: 6 }}>{property.label}</div>
      {value ? (
        <pre
          data-code={property.path}
          style={{
            fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
            fontSize: 12.5,
            lineHeight: 1.5,
            background: '#2b1020',
            color: '#fde8f0',
            padding: 16,
            borderRadius: 8,
            whiteSpace: 'pre-wrap',
            wordBreak: 'break-word',
            maxHeight: 480,
            overflow: 'auto',
          }}
        >
          {String(value)}
        </pre>
      ) : (
        <span style={{ color: '#8a6d7a' }}>—</span>
      )}
    </div>
  );
};

export default CodeBlock;
