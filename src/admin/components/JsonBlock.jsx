import React from 'react';
import { flat } from 'adminjs';

/** Tags, extra, metadata: the JSON as the client sent it, indented. */
const JsonBlock = ({ property, record }) => {
  const value = flat.get(record.params, property.path);
  const empty = value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0);
  return (
    <div style={{ marginBottom: 24 }}>
      <div style={{ fontSize: 12, textTransform: 'uppercase', color: '#8a6d7a', marginBottom: 6 }}>{property.label}</div>
      {empty ? (
        <span style={{ color: '#8a6d7a' }}>{'{}'}</span>
      ) : (
        <pre
          data-json={property.path}
          style={{
            fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
            fontSize: 12.5,
            background: '#fff0f6',
            border: '1px solid #f3b6cc',
            padding: 12,
            borderRadius: 8,
            whiteSpace: 'pre-wrap',
            maxHeight: 400,
            overflow: 'auto',
          }}
        >
          {JSON.stringify(value, null, 2)}
        </pre>
      )}
    </div>
  );
};

export default JsonBlock;
