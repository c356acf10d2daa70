// The tracking module's shapes: a workspace's tracking settings and a template's delivery metrics.

/** UTM values; `{{template}}` in a value is the template's name (campaign defaults to it). */
export interface Utm {
  source?: string;
  medium?: string;
  campaign?: string;
}

export interface TrackingSettings {
  openTracking: boolean;
  clickTracking: boolean;
  /** null: no UTM tags. */
  utm: Utm | null;
}

export const DEFAULT_SETTINGS: TrackingSettings = Object.freeze({ openTracking: true, clickTracking: true, utm: null });

/** Counts of a template's messages (by status) and of its messages opened or clicked at least once. */
export interface TemplateCounts {
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  bounced: number;
  complained: number;
  failed: number;
  suppressed: number;
  opened: number;
  clicked: number;
}

export interface TemplateMetrics extends TemplateCounts {
  templateId: string;
  rates: {
    delivery: number | null;
    bounce: number | null;
    complaint: number | null;
    open: number | null;
    click: number | null;
    clickToOpen: number | null;
  };
}

/** Who followed a link or loaded the pixel. */
export interface RequestContext { ip: string | null; userAgent: string | null }
