/**
 * The explicit AWS provider resource every AWS resource of a stack is created
 * through: one region, chosen by Lifeboat, never the ambient `aws:region`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * An aws.Provider for `region`. Credentials are not Lifeboat's business: the
 * AWS SDK reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment.
 *
 * The one exception is forwarding: preflight also accepts the keys as secrets
 * in the stack's config (aws:accessKey, aws:secretKey; see awsCredentials), but
 * only the *default* provider reads `aws:*` config, an explicit one does not.
 * So when (and only when) they are set there, they are passed on, still secret.
 */
export function awsClient(name: string, region: string): aws.Provider {
  const config = new pulumi.Config("aws");
  const accessKey = config.getSecret("accessKey");
  const secretKey = config.getSecret("secretKey");
  return new aws.Provider(name, {
    region,
    ...(accessKey ? { accessKey } : {}),
    ...(secretKey ? { secretKey } : {}),
  });
}
