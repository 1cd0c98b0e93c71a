# Interferogram stage: one canonical interferogram per event and subswath, whatever the backend
# (docs/architecture.md "Canonical interferogram"; native backend: docs/interferogram-native.md;
# SNAP: docs/snap.md). Both variants are rule `interferogram` (profiles and groups name it so).
#
# * Synthetic source, native backend: one job per event writes all configured subswaths one after
#   the other (seconds to a minute each), like `simulate`. Three jobs per event would add 2 jobs x
#   the number of events to the DAG, which Snakemake plans at about 1 ms of CPU per job
#   (docs/scale-out.md, "Large catalogs").
# * ASF source, SNAP backend: one job per event and subswath, since SNAP takes hours per subswath and
#   the subswaths over the epicentre are known only after the event's search checkpoint.


_IFG_QUICKLOOK = bool(config["interferogram"]["quicklook"])


if config["source"] == "synthetic":

    rule interferogram:
        """Canonical interferograms (i, q, coherence, tie-point geolocation, optional unwrapped phase
        and LOS displacement, truth LOS) of all subswaths of one synthetic event, and quicklooks."""
        input:
            scenes=expand(res("scenes/{{event}}/{iw}.h5"), iw=SYNTHETIC_SUBSWATHS),
        output:
            h5=expand(res("interferograms/{{event}}/{iw}.h5"), iw=SYNTHETIC_SUBSWATHS),
            **({"png": expand(res("interferograms/{{event}}/{iw}.png"), iw=SYNTHETIC_SUBSWATHS)} if _IFG_QUICKLOOK else {}),
        params:
            cfg=as_json(config["interferogram"]),
            subswaths=SYNTHETIC_SUBSWATHS,
        threads: 2
        resources:
            # one block of full-resolution lines plus the multilooked rasters: <= 8 GB for a full
            # subswath (benchmarks/results/native_fullres.json); the subswaths run one after the other
            mem_mb=8000,
        log:
            "logs/interferogram/{event}.log",
        benchmark:
            res("benchmarks/interferogram/{event}.tsv")
        conda:
            "../../envs/interferogram.yaml"
        shell:
            "$QUAKESAR_PYTHON -m quakesar.interferogram.rule native --cfg {params.cfg:q} --log {log:q}"
            " --subswaths {params.subswaths} --scenes {input.scenes:q} --outputs {output.h5:q}"
            + (" --quicklooks {output.png:q}" if _IFG_QUICKLOOK else "")

else:

    rule interferogram:
        """Canonical interferogram of one event and subswath from the event's chosen SLC pair, by
        SNAP's gpt, and its quicklook."""
        input:
            unpack(asf_interferogram_inputs),
        output:
            h5=res("interferograms/{event}/{iw}.h5"),
            **({"png": res("interferograms/{event}/{iw}.png")} if _IFG_QUICKLOOK else {}),
        params:
            cfg=as_json(config["interferogram"]),
            record=event_record_json,
        threads: 2
        resources:
            mem_mb=snap_mem_mb,
        log:
            main="logs/interferogram/{event}/{iw}.log",
            gpt="logs/interferogram/{event}/{iw}.gpt.log",
        benchmark:
            res("benchmarks/interferogram/{event}/{iw}.tsv")
        conda:
            "../../envs/interferogram.yaml"
        shell:
            "$QUAKESAR_PYTHON -m quakesar.interferogram.rule snap --cfg {params.cfg:q} --log {log.main:q}"
            " --gpt-log {log.gpt:q} --record {params.record:q} --subswaths {wildcards.iw}"
            " --pairs {input.pairs:q} --slcs {input.slcs:q} --outputs {output.h5:q}"
            f" --workdir {res('work/snap')}/{{wildcards.event}}/{{wildcards.iw}}"
            + (" --orbits {input.orbits:q}" if config["download"]["orbits"] else "")
            + (" --quicklooks {output.png:q}" if _IFG_QUICKLOOK else "")
