/** What a message's delivery status means to the person reading the thread. */
export function statusText(status: string, online: boolean): { text: string; tone: "muted" | "ok" | "warn" | "danger" } {
  switch (status) {
    case "pending":
      return online ? { text: "Sending…", tone: "muted" } : { text: "Pending: waiting to send (offline)", tone: "warn" };
    case "queued":
      return { text: "Queued at the provider", tone: "muted" };
    case "sent":
      return { text: "Sent", tone: "muted" };
    case "delivered":
      return { text: "Delivered", tone: "ok" };
    case "failed":
      return { text: "Failed", tone: "danger" };
    case "undelivered":
      return { text: "Not delivered", tone: "danger" };
    case "received":
      return { text: "", tone: "muted" };
    default:
      return { text: status, tone: "muted" };
  }
}
