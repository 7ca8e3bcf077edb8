import React from 'react';
import { Navigation } from '@adminjs/design-system';
import { useCurrentAdmin, useTranslation, ViewHelpers } from 'adminjs';
import { useLocation, useNavigate } from 'react-router';

const h = new ViewHelpers();
const STAFF_ONLY = ['queues'];

/** AdminJS's page list, without the staff-only pages for everyone else. */
const SidebarPages = ({ pages }) => {
  const [admin] = useCurrentAdmin();
  const { translateLabel, translatePage } = useTranslation();
  const location = useLocation();
  const navigate = useNavigate();
  const visible = (pages || []).filter((p) => admin?.isStaff || !STAFF_ONLY.includes(p.name));
  if (!visible.length) return null;
  const elements = visible.map((page) => ({
    id: page.name,
    label: translatePage(page.name),
    isSelected: location.pathname.includes(`/pages/${page.name}`),
    icon: page.icon,
    href: h.pageUrl(page.name),
    onClick: (event, element) => {
      event.preventDefault();
      if (element.href) navigate(element.href);
    },
  }));
  return <Navigation label={translateLabel('pages')} elements={elements} />;
};

export default SidebarPages;
