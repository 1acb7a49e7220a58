#!/usr/bin/env python3
"""Groups `perf script | swift demangle --simplified` stacks by phase (outermost Store/SyncClient call)
and reports inclusive shares of known hot spots.

    perf record -e cpu-clock -F 250 --call-graph dwarf,16384 -o p.data -- .build/release/articlesync-bench --size small
    perf script -i p.data -F comm,tid,ip,sym | swift demangle --simplified > p.txt && python3 scripts/bench/perf_phases.py p.txt
"""
import collections,sys
samples=open(sys.argv[1]).read().split('\n\n')
tot=0; phase=collections.Counter(); incl=collections.Counter(); within=collections.defaultdict(collections.Counter)
keys=['FTS5WrapperTokenizer.tokenize','ArabicNormalizer','StatementAuthorizer','Materializer.finish','Materializer.record','Materializer.apply','MergeState.fields','MergeState.register','MergeState.winner','MergeState.set','materializeArticle','updateArticle','materializeCollection','materializeAnnotation','trashConflict','advanceContiguous','fdatasync','OpCodec','Changeset.decode','sqlite3_prepare','fts5StorageDelete','fts5StorageInsert','fts5SnippetFunction','sqlite3_step','sqlite3_exec','Store.article(','versionVector']
phases=['Store.search','Store.merge','Store.importLibrary','Store.highlight','Store.editArticle','Store.addNote','Store.addTags','Store.removeTags','Store.addToCollection','WorkloadReplay.replayStream','Store.canonicalDump','SyncClient.push','SyncClient.pull']
for s in samples:
    lines=s.strip().split('\n')
    if len(lines)<2: continue
    tot+=1
    stack='\n'.join(lines[1:])
    ph='other'
    for p in phases:
        if p in stack: ph=p; break
    phase[ph]+=1
    for k in keys:
        if k in stack: incl[k]+=1; within[ph][k]+=1
print('total',tot)
for k,v in phase.most_common(): print('%-28s %5.1f%%'%(k,100*v/tot), '   ', ', '.join('%s %.0f%%'%(kk,100*vv/v) for kk,vv in within[k].most_common(9)))
print('--- inclusive')
for k,v in incl.most_common(): print('%-35s %5.1f%%'%(k,100*v/tot))
