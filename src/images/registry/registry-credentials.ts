/** What a registry login is, wherever it came from (environment, Docker config, credential helper). */
export interface RegistryCredentials {
  username: string;
  password: string;
}
