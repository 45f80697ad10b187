// Names from the registry in every signage language. The registry requires ja and en only; Chinese
// readers get the Japanese name (same characters) and Korean readers the English one when missing.
import { Languages, type LocalizedText } from '../schemas/common.ts';

export type FullText = Record<(typeof Languages)[number], string>;

export function localized(text: LocalizedText): FullText {
  return {
    ja: text.ja,
    en: text.en,
    'zh-Hans': text['zh-Hans'] ?? text.ja,
    'zh-Hant': text['zh-Hant'] ?? text.ja,
    ko: text.ko ?? text.en,
  };
}

export { Languages };
