/** Source folders whose import graph is checked. */
export declare const SOURCE_DIRS: readonly string[];
/** Circles tolerated for now, each as its exact set of files. */
export declare const ALLOWED_CYCLES: readonly (readonly string[])[];
/** file → files it imports, paths from `root`. */
export declare function importGraph(root: string): Map<string, string[]>;
/** Strongly connected components of more than one file. */
export declare function circles(graph: Map<string, string[]>): string[][];
/** One closed path around a component. */
export declare function pathAround(graph: Map<string, string[]>, comp: readonly string[]): string[];
/** The circles not allowed under `root`, each as a closed path. */
export declare function forbiddenCircles(root: string): string[][];
