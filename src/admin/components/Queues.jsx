import React, { useEffect, useState } from 'react';
import { ApiClient } from 'adminjs';

const api = new ApiClient();

/** The queue monitor (bull-board, served at /admin/queues behind the same session), for staff. */
const Queues = () => {
  const [page, setPage] = useState(null);
  useEffect(() => {
    api.getPage({ pageName: 'queues' }).then((r) => setPage(r.data));
  }, []);
  if (!page) return <div style={{ padding: 24 }}>Loading…</div>;
  if (!page.isStaff) return <div style={{ padding: 24 }}>The queue monitor is for staff.</div>;
  return (
    <div style={{ padding: 16, height: 'calc(100vh - 80px)', display: 'flex', flexDirection: 'column' }}>
      <p style={{ marginBottom: 8, fontSize: 13 }}>
        Failed jobs keep their data and error: retry or remove them here.{' '}
        <a href={page.url} target="_blank" rel="noreferrer" style={{ color: '#c2185b' }}>
          Open full screen ↗
        </a>
      </p>
      <iframe
        title="Queue monitor"
        src={page.url}
        style={{ flex: 1, border: '1px solid #f3b6cc', borderRadius: 8, width: '100%', background: '#fff' }}
      />
    </div>
  );
};

export default Queues;
