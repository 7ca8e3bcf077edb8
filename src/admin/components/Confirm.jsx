import React, { useState } from 'react';
import { ApiClient, useNotice } from 'adminjs';
import { useNavigate } from 'react-router';

const api = new ApiClient();
const button = { background: '#d6336c', color: '#fff', border: 0, borderRadius: 6, padding: '10px 18px', fontSize: 14, cursor: 'pointer' };

/**
 * Record and bulk actions that change data (archive, revoke, resolve…): asks, then POSTs.
 * Actions only answer data to a GET, so a link can never change anything. An action with
 * custom.download renders a download link instead.
 */
const Confirm = ({ action, record, records, resource }) => {
  const navigate = useNavigate();
  const addNotice = useNotice();
  const [busy, setBusy] = useState(false);
  const custom = action.custom || {};
  if (custom.download && record) {
    const href = custom.download.replace('{id}', encodeURIComponent(record.id));
    return (
      <div style={{ padding: 24 }}>
        <p style={{ marginBottom: 16 }}>{record.title}</p>
        <a data-download href={href} download style={{ ...button, textDecoration: 'none', display: 'inline-block' }}>
          Download
        </a>
      </div>
    );
  }
  const count = records ? records.length : 1;
  const submit = async () => {
    setBusy(true);
    try {
      const res = record
        ? await api.recordAction({ resourceId: resource.id, recordId: record.id, actionName: action.name, method: 'post', data: {} })
        : await api.bulkAction({
            resourceId: resource.id,
            recordIds: records.map((r) => r.id),
            actionName: action.name,
            method: 'post',
            data: {},
          });
      if (res.data.notice) addNotice(res.data.notice);
      if (res.data.redirectUrl) navigate(res.data.redirectUrl);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ padding: 24 }} data-confirm={action.name}>
      <p style={{ marginBottom: 8, fontSize: 15 }}>{custom.question || `${action.label}?`}</p>
      <p style={{ marginBottom: 16, color: '#8a6d7a' }}>{record ? record.title : `${count} selected`}</p>
      <button type="button" style={button} disabled={busy} onClick={submit}>
        {action.label}
      </button>
    </div>
  );
};

export default Confirm;
