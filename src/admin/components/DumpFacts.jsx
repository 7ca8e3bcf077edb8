import React from 'react';
import { flat } from 'adminjs';

const FACTS = [
  ['status', 'Status'],
  ['format', 'Format'],
  ['crash_reason', 'Crash reason'],
  ['exception_name', 'Exception'],
  ['exception_code', 'Exception code'],
  ['crash_address', 'Crash address'],
  ['crashed_thread', 'Crashed thread'],
  ['os', 'OS'],
  ['os_version', 'OS version'],
  ['os_build', 'OS build'],
  ['cpu_arch', 'CPU'],
  ['cpu_count', 'CPUs'],
  ['main_module', 'Main module'],
  ['module_count', 'Modules'],
  ['thread_count', 'Threads'],
  ['timestamp', 'Written at'],
  ['minidump_error', 'Parse error'],
  ['archive_error', 'Archive error'],
];

/** What the dumps worker learned (minidump facts, checksum check, errors), then the raw JSON. */
const DumpFacts = ({ property, record }) => {
  const info = flat.get(record.params, property.path) || {};
  // The worker keeps minidump facts under info.minidump; checks and errors at the top level.
  const facts = { ...info, ...(info.minidump && typeof info.minidump === 'object' ? info.minidump : {}) };
  const shown = FACTS.filter(([k]) => facts[k] !== undefined && facts[k] !== null && typeof facts[k] !== 'object');
  return (
    <div style={{ marginBottom: 24 }} data-dump-facts>
      <div style={{ fontSize: 12, textTransform: 'uppercase', color: '#8a6d7a', marginBottom: 6 }}>{property.label}</div>
      {shown.length ? (
        <table style={{ fontSize: 13, marginBottom: 10 }}>
          <tbody>
            {shown.map(([k, label]) => (
              <tr key={k}>
                <td style={{ color: '#8a6d7a', paddingRight: 16 }}>{label}</td>
                <td style={{ fontFamily: 'ui-monospace, Menlo, monospace' }}>{String(facts[k])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <pre
        style={{
          fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
          fontSize: 12,
          background: '#fff0f6',
          border: '1px solid #f3b6cc',
          padding: 12,
          borderRadius: 8,
          whiteSpace: 'pre-wrap',
          maxHeight: 400,
          overflow: 'auto',
        }}
      >
        {JSON.stringify(info, null, 2)}
      </pre>
      <a href={`/admin/dumps/${encodeURIComponent(record.id)}/download`} download style={{ color: '#c2185b' }}>
        Download the dump
      </a>
    </div>
  );
};

export default DumpFacts;
