import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Project } from './Project.ts';

/**
 * An override of the built-in LLM price table (src/domain/llm/prices.ts): for one project,
 * or for the whole instance when projectId is null (staff only). US dollars per million tokens.
 */
@Entity({ name: 'llm_prices' })
export class LlmPrice extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'project_id', type: 'integer', nullable: true })
  projectId: number | null;

  @ManyToOne(() => Project, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project> | null;

  /** A model name, or a pattern with `*` (e.g. `gpt-4o*`). */
  @Column({ type: 'varchar', length: 200 })
  model: string;

  @Column({ name: 'input_per_million', type: 'double precision' })
  inputPerMillion: number;

  @Column({ name: 'output_per_million', type: 'double precision' })
  outputPerMillion: number;

  @Column({ name: 'cached_input_per_million', type: 'double precision', nullable: true })
  cachedInputPerMillion: number | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
