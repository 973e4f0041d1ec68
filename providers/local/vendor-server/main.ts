/**
 * One outside vendor on the local internet, run by a local server's
 * supervisor like any other server process: an SMTP relay, or an SMS API in
 * Twilio's or Vonage's shape, as its directory's vendor.json says.
 *
 *   node --import tsx providers/local/vendor-server/main.ts <vendor dir>
 */
import path from "node:path";
import { readIdentity } from "./files.ts";
import { startHttpApi } from "./http.ts";
import { startSmtpRelay } from "./smtp.ts";
import { twilioApi, twilioError } from "./twilio.ts";
import { vonageApi, vonageRejection } from "./vonage.ts";

const dir = path.resolve(process.argv[2] ?? "");
const vendor = readIdentity(dir);

switch (vendor.kind) {
  case "smtp":
    startSmtpRelay(vendor, dir);
    break;
  case "twilio":
    startHttpApi(vendor, twilioApi(vendor, dir), (reason) => twilioError(400, 20001, reason));
    break;
  case "vonage":
    startHttpApi(vendor, vonageApi(vendor, dir), () => vonageRejection("3", "Invalid params"));
    break;
}
