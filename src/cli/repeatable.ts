/** commander's value parser of a repeatable option (`-e A -e B`): every value, in the order given. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];
