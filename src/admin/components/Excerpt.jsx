import React from 'react';
import { flat } from 'adminjs';

/** A long text in a list cell: its first line, cut. */
const Excerpt = ({ property, record }) => {
  const value = String(flat.get(record.params, property.path) ?? '');
  const line = value.split('\n')[0];
  return <span title={value.slice(0, 500)}>{line.length > 100 ? `${line.slice(0, 100)}…` : line}</span>;
};

export default Excerpt;
