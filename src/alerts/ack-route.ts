// The office acknowledges over HTTP too: POST /api/alerts/<id>/ack, JSON, same-origin, as an
// operator by HTTP Basic (internal listener). Who acknowledged is the login, never a parameter.
import { type HttpPlugin, sendJson } from '../http/app.ts';
import { crossSiteRefusal, type OfficeLogin } from '../http/office-login.ts';
import { AlertAck, type AlertEvent } from '../schemas/alerts.ts';

export interface AckRouteOptions {
  login: OfficeLogin;
  /** False while the alert state is being restored: acknowledgements wait for it. */
  ready(): boolean;
  /** The area of an open alert, or undefined. */
  areaOf(alertId: string): string | undefined;
  /** Records the acknowledgement; the event it caused, or undefined when it was already acknowledged. */
  acknowledge(ack: AlertAck): AlertEvent | undefined;
}

export const ackRoutePlugin: HttpPlugin<AckRouteOptions> = (app, o) => {
  app.route('POST', '/api/alerts/*', async (req, res, url) => {
    const [, , , alertId = '', action, ...rest] = url.pathname.split('/');
    const crossSite = crossSiteRefusal(req);
    if (crossSite) return sendJson(res, 403, { error: crossSite, code: 'MACHI_ERR_FORBIDDEN' });
    const user = await o.login.authenticate(req, res);
    if (!user) return;
    if (user.role !== 'operator')
      return sendJson(res, 403, { error: 'only operators acknowledge', code: 'MACHI_ERR_FORBIDDEN' });
    if (!o.ready())
      return sendJson(res, 503, {
        error: 'alert state is being restored, retry shortly',
        code: 'MACHI_ERR_STARTING',
      });
    const areaId = action === 'ack' && rest.length === 0 ? o.areaOf(alertId) : undefined;
    if (!areaId) return sendJson(res, 404, { error: 'no such open alert', code: 'MACHI_ERR_NOT_FOUND' });
    const ack = AlertAck.safeParse({ v: 1, alertId, areaId, by: user.name, at: new Date().toISOString() });
    if (!ack.success)
      return sendJson(res, 400, { error: 'invalid acknowledgement', code: 'MACHI_ERR_INVALID_REQUEST' });
    const event = o.acknowledge(ack.data);
    sendJson(
      res,
      event ? 200 : 409,
      event ?? { error: 'already acknowledged', code: 'MACHI_ERR_ALREADY_ACKNOWLEDGED' },
    );
  });
};
