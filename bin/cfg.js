#!/usr/bin/env node
// `node bin/cfg.js ...`: the same as bin/cfg (the executable the package ships), under the name
// this repository's tests, benchmarks and docs have always run it by.
import './cfg';
