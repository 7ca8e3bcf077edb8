import React from 'react';
import { flat } from 'adminjs';
import { LEVEL_COLORS } from './charts';

const LevelBadge = ({ property, record, where }) => {
  const level = String(flat.get(record.params, property.path) ?? '');
  const badge = (
    <span
      data-level={level}
      style={{
        background: LEVEL_COLORS[level] || '#9e9aa8',
        color: '#fff',
        borderRadius: 10,
        padding: '2px 8px',
        fontSize: 12,
        fontWeight: 600,
      }}
    >
      {level}
    </span>
  );
  if (where !== 'show') return badge;
  return (
    <div style={{ marginBottom: 24 }}>
      <div style={{ fontSize: 12, textTransform: 'uppercase', color: '#8a6d7a', marginBottom: 6 }}>{property.label}</div>
      {badge}
    </div>
  );
};

export default LevelBadge;
