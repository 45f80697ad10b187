// Feeds the office's alert history from the Kafka audit trail: the last week on start, then live.
// Each process reads every partition in a consumer group of its own that never commits: a restart
// reads the week again. It starts in the background, so the pages and signs never wait on Kafka;
// until the week is read the history says it is not ready, and the API answers 503.
import type { Consumer, Kafka } from 'kafkajs';
import { ensureTopics, fetchReplayOffsets } from '../../bus/admin.ts';
import { IDLE_TOPIC_CONSUMER } from '../../bus/consumer.ts';
import { createKafka } from '../../bus/kafka.ts';
import { ReplayProgress, readBatchEnds } from '../../bus/replay-progress.ts';
import { kafkaTopics } from '../../bus/topics.ts';
import type { Config } from '../../config/config.ts';
import { retry } from '../../lib/retry.ts';
import type { Logger } from '../../observability/logger.ts';
import { AlertEvent } from '../../schemas/alerts.ts';
import { AlertHistory, HISTORY_LOOKBACK_MS } from './alert-history.ts';

export class AlertHistoryFeed {
  readonly history = new AlertHistory();
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly topic: string;
  private readonly groupId: string;
  private readonly stopping = new AbortController();
  private progress: ReplayProgress | undefined;
  private started: Promise<void> | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.kafka = createKafka(config, log, 'office');
    this.groupId = `${config.kafka.clientId}-office-history-${process.pid}-${Date.now().toString(36)}`;
    this.consumer = this.kafka.consumer({ ...IDLE_TOPIC_CONSUMER, groupId: this.groupId });
    this.topic = kafkaTopics(config.kafka.topicPrefix).alertEvents;
  }

  /** True once the last week of the trail is held. */
  get ready(): boolean {
    return this.progress?.done ?? false;
  }

  /** Begins reading; retries until Kafka answers or `stop()` is called. */
  start(): void {
    this.started = retry(() => this.connect(), {
      initialMs: 1000,
      maxMs: 30_000,
      jitter: 0.2,
      signal: this.stopping.signal,
      onRetry: (err) => this.log.warn({ err: (err as Error).message }, 'alert history: Kafka not reachable'),
    }).catch((err: Error) => {
      if (!this.stopping.signal.aborted) this.log.error({ err: err.message }, 'alert history not started');
    });
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.started;
    await this.consumer.disconnect();
  }

  private async connect(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    await ensureTopics(this.kafka, this.config, [this.topic]);
    const offsets = await fetchReplayOffsets(this.kafka, [this.topic], Date.now() - HISTORY_LOOKBACK_MS);
    const progress = new ReplayProgress([offsets]);
    await this.startGroupAt(offsets.seeks);
    const unfollow = readBatchEnds(this.consumer, progress);
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
      await this.consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          this.observe(message.value, Number(message.timestamp));
          progress.read(this.topic, partition, message.offset);
        },
      });
    } catch (err) {
      // The next attempt starts from a clean consumer (kafkajs refuses to subscribe a running one).
      unfollow();
      await this.consumer.disconnect().catch(() => {});
      throw err;
    }
    this.progress = progress;
  }

  /**
   * The new group starts where the week begins. Set before it runs, not by seek() after: a record
   * written in between would be read once at the end and again from the week's start.
   */
  private async startGroupAt(seeks: Array<{ partition: number; offset: string }>): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.setOffsets({ groupId: this.groupId, topic: this.topic, partitions: seeks });
    } finally {
      await admin.disconnect();
    }
  }

  /** One audit record; one that is not an AlertEvent is logged and skipped, never thrown. */
  private observe(value: Buffer | null, recordedAt: number): void {
    let event: AlertEvent;
    try {
      event = AlertEvent.parse(JSON.parse(value?.toString('utf8') ?? ''));
    } catch (err) {
      this.log.warn({ err: (err as Error).message.slice(0, 200) }, 'alert history: record skipped');
      return;
    }
    this.history.add(event, recordedAt);
  }
}
