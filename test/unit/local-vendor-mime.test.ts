/** What the local mail relays read of a message: nodemailer's own output (its stream transport writes what it would send) and a few hand-made ones. */
import nodemailer, { type SendMailOptions } from "nodemailer";
import { describe, expect, it } from "vitest";
import { decodeWords, summarizeMessage } from "../../providers/local/vendor-server/mime.ts";

const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });

async function composed(mail: SendMailOptions): Promise<{ raw: Buffer; messageId: string }> {
  const info = await composer.sendMail({ from: "noreply@social.test", to: "ada@example.test", ...mail });
  return { raw: info.message as Buffer, messageId: info.messageId };
}

describe("summarizeMessage", () => {
  it("reads a plain ASCII message: its Message-ID as nodemailer reports it, its subject and its text", async () => {
    const { raw, messageId } = await composed({ subject: "Your code", text: "Hello,\nyour code is 4217." });
    expect(summarizeMessage(raw)).toEqual({ messageId, subject: "Your code", body: "Hello,\nyour code is 4217." });
  });

  it("decodes a subject in encoded words and a quoted-printable body with long lines and a trailing space", async () => {
    const text = "Bienvenue sur le réseau, où l'on écrit des lignes très longues ".repeat(6);
    const { raw } = await composed({ subject: "Bienvenue, Zoë ✓ — votre compte est prêt et vous attend depuis ce matin", text });
    expect(raw.toString()).toContain("Content-Transfer-Encoding: quoted-printable");
    expect(summarizeMessage(raw)).toMatchObject({ subject: "Bienvenue, Zoë ✓ — votre compte est prêt et vous attend depuis ce matin", body: text });
  });

  it("takes the plain-text alternative of a message that has an HTML one too", async () => {
    const { raw } = await composed({ subject: "Both", text: "the text", html: "<p>the html</p>" });
    expect(summarizeMessage(raw).body).toBe("the text");
  });

  it("takes the text, not a text attachment, of a message with attachments, and reads base64", async () => {
    const { raw } = await composed({ subject: "Attached", text: "see attached", attachments: [{ filename: "notes.txt", content: "attached text" }] });
    expect(summarizeMessage(raw).body).toBe("see attached");
    const { raw: html } = await composed({ subject: "Only html", html: "<p>only</p>", textEncoding: "base64" });
    expect(summarizeMessage(html).body).toBe("<p>only</p>");
  });

  it("leaves what it does not find undefined: a message without Message-ID or Subject", () => {
    expect(summarizeMessage(Buffer.from("From: a@b.test\r\nTo: c@d.test\r\n\r\nhello\r\n"))).toEqual({ messageId: undefined, subject: undefined, body: "hello" });
  });
});

describe("decodeWords", () => {
  it("joins adjacent encoded words and keeps plain text around them", () => {
    expect(decodeWords("=?UTF-8?B?Y2Fmw6k=?= =?UTF-8?Q?_cr=C3=A8me?= au lait")).toBe("café crème au lait");
  });
});
