import { BaseEntity, Column, Entity, JoinColumn, OneToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Project } from './Project.ts';

/**
 * A project's inbound filters (src/domain/outcomes/filters.ts): Sentry's standard ones,
 * each on or off. Patterns are kept one per line (the admin edits them in a text area;
 * the API speaks lists). A project without a row has every filter off.
 */
@Entity({ name: 'project_inbound_filters' })
export class InboundFilter extends BaseEntity {
  @PrimaryColumn({ name: 'project_id', type: 'integer' })
  projectId: number;

  @OneToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'legacy_browsers', type: 'boolean' })
  legacyBrowsers: boolean;

  @Column({ name: 'web_crawlers', type: 'boolean' })
  webCrawlers: boolean;

  @Column({ name: 'browser_extensions', type: 'boolean' })
  browserExtensions: boolean;

  @Column({ type: 'boolean' })
  localhost: boolean;

  @Column({ name: 'error_messages', type: 'text' })
  errorMessages: string;

  @Column({ type: 'text' })
  releases: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
