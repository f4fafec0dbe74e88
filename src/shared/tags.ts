// Tags on any resource, keyed by ARN or id. sso-admin and organizations share this port.

export interface Tag {
  Key: string;
  Value: string;
}

export interface TagStore {
  putTags(resourceArn: string, tags: Tag[]): Promise<void>;
  removeTags(resourceArn: string, keys: string[]): Promise<void>;
  listTags(resourceArn: string): Promise<Tag[]>;
  deleteAllTags(resourceArn: string): Promise<void>;
}
