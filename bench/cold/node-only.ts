// Cold child: node starting and exiting, nothing loaded (the start-up cost every variant pays).
import { report } from "./report";

report(performance.now());
