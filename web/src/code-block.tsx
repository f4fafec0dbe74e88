// A block of text to paste somewhere, with its copy button.

import Box from '@cloudscape-design/components/box';
import CopyToClipboard from '@cloudscape-design/components/copy-to-clipboard';
import SpaceBetween from '@cloudscape-design/components/space-between';
import { strings } from './strings.js';

export function CodeBlock({ text, label }: { text: string; label: string }) {
  return (
    <SpaceBetween size="xs">
      <Box variant="pre" className="code-block" data-testid={label}>
        {text}
      </Box>
      <CopyToClipboard
        variant="button"
        copyButtonText={strings.access.copy}
        copyButtonAriaLabel={`${strings.access.copy}: ${label}`}
        copySuccessText={strings.access.copied}
        copyErrorText={strings.access.copyFailed}
        textToCopy={text}
      />
    </SpaceBetween>
  );
}

/** One value with an inline copy button. */
export function CopyValue({ value }: { value: string }) {
  return <CopyToClipboard variant="inline" textToCopy={value} copyButtonAriaLabel={strings.access.copy} copySuccessText={strings.access.copied} copyErrorText={strings.access.copyFailed} />;
}
